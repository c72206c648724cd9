"""One thin module per pipeline step: options, one library call, the result on stdout."""
