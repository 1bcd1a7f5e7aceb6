"""iCal calendars: export a property's taken dates, import blocks from external feeds.

- :mod:`properties.ical.export`: the token-protected export (held dates and blocks).
- :mod:`properties.ical.feeds`: a host registers and removes feed URLs; registering
  runs the first sync at once, with a short deadline.
- :mod:`properties.ical.sync`: one feed's events mirrored as the property's blocks
  (the same service for the first sync, "sync now" and the hourly task,
  :mod:`properties.tasks`).
- :mod:`properties.ical.fetch`: the download, with its timeout, size cap and guard
  against requests to private addresses.
- :mod:`properties.ical.parse`: the nights a feed's events (recurring ones included)
  block.

Imports point down that list's reverse: ``feeds`` -> ``properties.tasks`` -> ``sync``
-> ``parse`` -> ``fetch``.
"""
