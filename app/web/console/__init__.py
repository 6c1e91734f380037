"""The console: HTML pages under /admin for federation staff and unit organizers, signed in
by a session cookie (session). One blueprint per module, each made by blueprint.console_blueprint:
account (sign-in, own password, static files), pages, manage, bills, refunds; audit_text
words the audit trail."""
