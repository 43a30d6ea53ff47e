"""Due process: objections, credit repair, commitments, complaints and special inquiries.

Each workflow is a small state machine with a deadline in working days. The transitions
are pure functions over states; the services around them read and write the store inside
the caller's transaction, append audit events and queue notifications.
"""
