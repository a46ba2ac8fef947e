"""Pure transforms: users, channels, content."""
