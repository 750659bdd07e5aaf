"""(to be written: set_seed and the generator behind every random op)"""

__all__ = []
