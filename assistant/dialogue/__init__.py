"""One way through a turn: the pipeline's steps, the skill router, the request intake and the out-of-scope classifier."""
