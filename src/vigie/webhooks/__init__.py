"""Signed webhooks: endpoints, events fanned out into deliveries, attempts recorded one by one."""
