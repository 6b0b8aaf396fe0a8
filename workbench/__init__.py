"""workbench: learn, demo and debug three methods from one research group.

- ``workbench.needs``   living needs -> service categories -> merchants with one language model
- ``workbench.glass``   GLASS: long-term interests in generative recommendation with semantic IDs
- ``workbench.merging`` the thinking spectrum: merging a direct and a thinking model

Shared ground: ``config`` (profiles, per-method settings), ``store`` (artifacts), ``metrics``,
``claims`` (the paper-claims report), ``lm`` (the tiny-language-model kit), ``viz`` (plotly figures).
"""

__version__ = "0.1.0"
