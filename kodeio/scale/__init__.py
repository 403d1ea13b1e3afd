"""Scale-out: the data stages as Ray tasks (`--ray`), and shards merged back (`kodeio merge`)."""
