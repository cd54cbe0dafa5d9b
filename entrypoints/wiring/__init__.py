"""The composition: settings, long-lived clients, adapter builders, background runners."""
