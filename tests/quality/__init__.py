"""Tests of qualities that cut across the domains: robustness under bad input and faults."""
