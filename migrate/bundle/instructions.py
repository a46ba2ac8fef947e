"""IMPORT.md: what the admin does with the ZIPs, in order, as Slack's help describes its import
tool (slack.com/help/articles/201748703, 220556107; Enterprise Grid: 360049597673, 115002532808):
each ZIP is imported into a workspace, one at a time, oldest first."""

from __future__ import annotations


def import_instructions(written: list[tuple[str, int]]) -> str:
    rows = "\n".join(f"{n}. `{name}` — {count:,} messages" for n, (name, count) in
                     enumerate(written, 1))
    return f"""# Importing the Teams history into Slack

These ZIPs hold the Teams history in Slack's export format: every message keeps its author
and its original time. Import them **in this order**, one at a time:

{rows}

## Steps, for each ZIP

1. As a Workspace Owner or Admin: **Settings & administration → Workspace settings →
   Import/Export Data → Import → Slack**, and upload the ZIP.
2. Review the user matching: people are matched to existing accounts **by email** (the ZIPs
   carry the address `migrate plan` matched each person to). Keep the matches; people without
   an account are created (or added as deactivated, your choice).
3. Import. Slack starts **at most one import per hour**: wait for one to finish, and for the
   hour to pass, before the next ZIP.
4. Run `migrate verify`: it finds the imported channels, confirms every message by its time
   stamp, and records them, so that `migrate sync` carries on through the API from there (new
   messages, replies into imported threads, files, new channels and members) and never posts
   an imported message twice.

## Good to know

- **Enterprise Grid** does not take imports into an org's workspaces directly: import into a
  separate (staging) workspace, then have Slack (your account team, or the org admin tools)
  move it into the org.
- **Private channels** are imported with their members only. For `migrate verify` to read
  them, add the app to each (`/invite @<app>` in the channel), or they are reported as not
  verifiable.
- **Direct and group messages** cannot be read by an app at all: `verify` reports them as
  imported but not verifiable; check them in Slack's import summary.
- **Files** are not in the ZIPs (Slack's importer would have to fetch them from Teams): after
  the import, `migrate run` uploads them into their threads.
- A message edited or deleted in Teams after its import stays as imported: it is a person's own
  message, which an app cannot change. `migrate run` reports each one.
"""
