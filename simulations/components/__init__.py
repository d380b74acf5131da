"""One module per component, named as the component is (dashes as underscores).

They are listed in :mod:`simulations.registry`.
"""
