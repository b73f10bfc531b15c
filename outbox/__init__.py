"""The outbox: the one door through which the domain announces what happened.

Services record a domain event (`services.publish`) inside their transaction; it is delivered
to subscribers once the transaction commits. Ingest announces stored traffic
(`services.note_traffic`), delivered at once. The outbox knows no subscriber: `live`, the top
layer, subscribes when Django starts, so nothing below it imports it.
"""
