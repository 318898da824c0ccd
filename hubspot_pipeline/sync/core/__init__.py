"""The sync's pure core: mappings and transforms, canonical values, hashes, the 3-way plan."""
