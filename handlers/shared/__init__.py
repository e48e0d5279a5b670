"""Code shared by every stage; packaged into each function's archive."""
