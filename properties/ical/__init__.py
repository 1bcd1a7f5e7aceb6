"""iCal calendars: export a property's taken dates, import blocks from external feeds.

- :mod:`properties.ical.export`: the token-protected export (held dates and blocks).
- :mod:`properties.ical.sync`: one feed's events mirrored as the property's blocks
  (the same service for the first sync, "sync now" and the hourly task,
  :mod:`properties.tasks`).
- :mod:`properties.ical.fetch`: the download, with its timeout, size cap and guard
  against requests to private addresses.
- :mod:`properties.ical.parse`: the nights a feed's events (recurring ones included)
  block.

A host registers and removes feed URLs with :mod:`properties.calendar_feeds` (registering
runs the first sync at once, with a short deadline), outside this package: it queues
:mod:`properties.tasks`, which calls in here. Imports point one way:
``calendar_feeds`` -> ``properties.tasks`` -> ``ical.sync`` -> ``ical.parse`` / ``ical.fetch``.
"""
