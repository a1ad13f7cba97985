"""The notifications service: e-mail templates, SMTP delivery exactly once in effect, the delivery log."""
