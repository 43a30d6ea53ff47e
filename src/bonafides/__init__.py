"""bonafides: a public credit information platform built on lawful records and due process."""

__version__ = "0.1.0"
