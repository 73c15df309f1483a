"""The synthetic demo district (Binhu District, Wuxi): a deterministic generator."""
