"""Simulations for LLM Ops Lab: real langchain-core code on a virtual clock.

Nothing in this package imports Django or Channels.
"""
