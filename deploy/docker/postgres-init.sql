-- One database per service.
CREATE DATABASE ras_identity;
CREATE DATABASE ras_applications;
CREATE DATABASE ras_attachments;
CREATE DATABASE ras_notifications;
