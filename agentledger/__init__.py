"""AgentLedger: what your coding agents spent, and what it bought."""

__version__ = "0.1.0"
