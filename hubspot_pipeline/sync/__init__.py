"""The sync's pure logic, on pandas DataFrames: mappings and transforms, canonical values, hashes, the
3-way plan. No Dagster, no HTTP; the engine (engine.py, store.py) is the only part that does I/O."""
