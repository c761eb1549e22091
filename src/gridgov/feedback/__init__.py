"""Closing the loop with the public (公众反馈): one-to-one replies, third-party callbacks, ratings."""
