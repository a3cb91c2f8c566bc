"""Active learning: which unlabelled images would teach the current model most (no Qt).

- :mod:`probe`: the model's raw predictions and backbone features for a batch;
- :mod:`signals`: per-image uncertainty and flip/scale consistency from them;
- :mod:`select`: rank-combining the signals and a greedy k-center pick for diversity;
- :mod:`cache`: per-checkpoint score files, so a second look costs nothing;
- :mod:`job`: scoring a list of images with progress and cancel;
- :mod:`suggest`: the project-level entry point (CLI and labeller);
- :mod:`walk`: "Next suggested", which skips images labelled since.
"""
