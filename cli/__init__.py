"""The project's one command line (`pz`, or `python -m cli`): the top floor, which may import
recs, stacks, pipeline and local."""
