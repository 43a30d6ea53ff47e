"""Due process use cases: objections, credit repair, complaints and special inquiries.

One function per step, called alike by the API and the portal: the workflow service
decides who may do what, the step logs staff reads of a subject's case, commits once
through the unit of work, and only then mails what it queued. A step that fails is rolled
back and mails nobody.
"""
