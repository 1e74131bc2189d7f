"""Stageloop's engine: the JUnit parser, the deploy targets, the suite runner, process groups,
and how a fraction reads as a percentage (pages and the CLI alike).

Plain Python that imports no Django, so it can be tested and reused alone (the CLI client uses the
parser and the runner). The Django apps call it; it never calls them back."""
