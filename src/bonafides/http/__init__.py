"""HTTP plumbing shared by both adapters, the JSON API and the portal.

Dependencies, authentication and rate limits, problem mapping, middleware and the
route table live here so that ``web`` never imports from ``api`` (nor the reverse).
"""
