"""E-mail: messages composed from French templates (text and HTML), kept as rows, sent by a job through SMTP
(aiosmtplib) or, with no SMTP server set, written as .eml files under data_dir/outbox/."""
