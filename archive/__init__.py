"""Archiving retired partitions out of the event store, and restoring them.

Unlocking or deleting an app retires partitions (`RetiredPartition` rows). `archive_partitions`
exports each one into `settings.ARCHIVE_DIR` (gzip JSON Lines plus a manifest), verifies it,
and can then delete it from the store; `restore_partition` brings one back, into either store;
`list_archives` shows them. Design, format and fault model: docs/archiving.md.

- `layout`: the directory layout, durable writes, the lock, the step hook tests crash at;
- `format`: the files and the manifest, checksums, verification;
- `records`: the `RetiredPartition` rows (the metadata side);
- `archiver`, `restore`, `catalog`: the three commands' logic;
- `services`: what the commands call (stores, root, progress), and the names above re-exported.
"""
