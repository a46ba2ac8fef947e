"""The Teams side: Microsoft Graph authentication, the HTTP client, and the export into the store.
Raw Graph dicts never leave this package except into the store; the other stages read typed
records."""
