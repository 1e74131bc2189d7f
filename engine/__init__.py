"""Stageloop's engine: the JUnit parser, the deploy targets and the suite runner.

Plain Python that imports no Django, so it can be tested and reused alone (the CLI client uses the
parser and the runner). The Django apps call it; it never calls them back."""
