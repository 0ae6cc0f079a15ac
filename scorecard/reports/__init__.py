"""Scorecards over time: daily snapshots, trends, the HTML report and the Markdown digest.

``history`` turns a scored report into a snapshot row per team and reads the
series back (recomputing from cached events where a snapshot is missing);
``charts`` draws inline SVG; ``html`` and ``digest`` are the two formats of
``scorecard report``; ``commands`` is what the command line calls. Importing
this package is light (no pandas): the command line imports it at start.
"""
