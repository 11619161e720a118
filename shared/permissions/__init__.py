"""Microsoft Graph application permissions PIM Warden needs: one manifest (data), read here."""
