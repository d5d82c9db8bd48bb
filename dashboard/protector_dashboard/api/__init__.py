"""The dashboard's access to protector-api (see ``protector``)."""
