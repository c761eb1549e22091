"""Cases (案件): intake from every channel, grading, dispatch, handling, verification, closure."""
