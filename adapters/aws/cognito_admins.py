"""The console's admins as the Cognito user pool sees them now (AdminGetUser and
AdminListGroupsForUser, by the pool's user name: the `sub`, as the e-mail is a username
attribute)."""

from typing import Any

from botocore.exceptions import ClientError

from adapters.aws.clients import error_code


class CognitoAdminDirectory:
    def __init__(self, client: Any, user_pool_id: str, group: str) -> None:
        self._client, self._pool, self._group = client, user_pool_id, group

    async def is_admin(self, subject: str) -> bool:
        try:
            user = await self._client.admin_get_user(UserPoolId=self._pool, Username=subject)
            if not user.get("Enabled", True):
                return False
            token: str | None = None
            while True:
                page = await self._client.admin_list_groups_for_user(
                    UserPoolId=self._pool, Username=subject,
                    **({"NextToken": token} if token else {}))
                if any(g.get("GroupName") == self._group for g in page.get("Groups", [])):
                    return True
                token = page.get("NextToken")
                if not token:
                    return False
        except ClientError as exc:
            if error_code(exc) == "UserNotFoundException":
                return False
            raise
