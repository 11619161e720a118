"""The Graph adapter: the only package in PIM Warden that imports msgraph-sdk or kiota."""
