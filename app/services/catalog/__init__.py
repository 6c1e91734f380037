"""The public read side: campaigns, entry links and donor (worker) login."""
