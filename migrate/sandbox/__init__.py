"""Local emulators of Microsoft Graph and the Slack Web API, and the demo tenant loader.

Both emulators speak real HTTP on 127.0.0.1 so that the real `requests`, `msal` (through an
injected http client) and `slack_sdk` clients can be pointed at them. They are used by
`migrate sandbox`, `migrate demo`, the test suite and the benchmarks.
"""
