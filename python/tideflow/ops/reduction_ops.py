"""(filled by its op family)"""
__all__ = []
