"""E-mail notifications: what is mailed, to whom, once, and how to stop it.

``workspace.services.notification_create`` hands every new notification to
:func:`workspace.mail.services.notification_email_on_commit`, which decides
from the notification's kind and data whether it becomes an e-mail at once
(consult steps, a patient's "your clinician replied"), joins the recipient's
pending mention digest, or stays in the app. Sending happens in a task after
commit; :mod:`workspace.mail.sending` re-checks the recipient and their
preferences, claims a once-only key and adds the RFC 8058 unsubscribe headers.
"""
