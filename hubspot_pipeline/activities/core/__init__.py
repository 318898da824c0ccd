"""The activity log's pure rules: plain values in, plain values out; no database, no HTTP, no clock."""
