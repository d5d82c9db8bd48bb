"""Self-signed TLS certificate for the simulator, made with ``cryptography``.

py-pure-client only speaks HTTPS. With ``verify_ssl`` unset it does not
verify, so any certificate works; clients that do verify need this cert as
CA (``Configuration(ssl_ca_cert=...)`` or ``SSL_CERT_FILE``) and it must
name ``IP:127.0.0.1`` in its subjectAltName.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_cert(directory, host="127.0.0.1"):
    """Write ``cert.pem`` and ``key.pem`` into ``directory``; return paths."""
    os.makedirs(directory, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "flasharray-sim"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                         "Protector lab")])
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.DNSName("localhost"),
           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if host not in ("127.0.0.1", "localhost"):
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            san.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
