"""The surveillance services as they were before the set-based rewrite (issue 9), kept
verbatim (imports aside) so tests can check the new code computes the same results."""
