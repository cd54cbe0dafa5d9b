"""The composition: settings, the infrastructure container every entrypoint shares, the
adapter builders behind it, the lifespan and litestar bridge, background runners."""
