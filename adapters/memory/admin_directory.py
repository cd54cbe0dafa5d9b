"""Admins of an identity provider kept in memory: the ones `grant`ed and not `revoke`d."""


class InMemoryAdminDirectory:
    def __init__(self, admins: set[str] | None = None) -> None:
        self.admins = set(admins or ())

    async def is_admin(self, subject: str) -> bool:
        return subject in self.admins
