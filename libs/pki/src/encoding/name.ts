import { children, content, DerError, readOid, readWhole, type Tlv } from './der-reader.js';
import { oid, printableString, seq, setOf, utf8String, ia5String } from './der-writer.js';
import { OID } from './oids.js';

/** Short names of the attribute types this library writes and prints (RFC 4514 §3 plus common ones). */
export type NameAttributeType =
  'CN' | 'O' | 'OU' | 'C' | 'L' | 'ST' | 'DC' | 'UID' | 'serialNumber';

/** One attribute of a distinguished name, in the order written (most general first). */
export interface NameAttribute {
  readonly type: NameAttributeType;
  readonly value: string;
}

const TYPE_TO_OID: Record<NameAttributeType, string> = {
  CN: OID.commonName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  C: OID.countryName,
  L: OID.localityName,
  ST: OID.stateOrProvinceName,
  DC: OID.domainComponent,
  UID: OID.userId,
  serialNumber: OID.serialNumber,
};

const OID_TO_SHORT: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.countryName]: 'C',
  [OID.localityName]: 'L',
  [OID.stateOrProvinceName]: 'ST',
  [OID.streetAddress]: 'STREET',
  [OID.domainComponent]: 'DC',
  [OID.userId]: 'UID',
  [OID.serialNumber]: 'serialNumber',
  [OID.emailAddress]: 'emailAddress',
  [OID.surname]: 'SN',
  [OID.givenName]: 'GN',
  [OID.title]: 'title',
};

/**
 * Encodes a Name (RDNSequence, one attribute per RDN). `C` and `serialNumber`
 * are PrintableString, `DC` IA5String, everything else UTF8String (RFC 5280 §4.1.2.6).
 */
export function encodeName(attributes: readonly NameAttribute[]): Buffer {
  return seq(
    ...attributes.map((a) => {
      const value =
        a.type === 'C' || a.type === 'serialNumber'
          ? printableString(a.value)
          : a.type === 'DC'
            ? ia5String(a.value)
            : utf8String(a.value);
      return setOf(seq(oid(TYPE_TO_OID[a.type]), value));
    }),
  );
}

function decodeDirectoryString(buf: Uint8Array, t: Tlv): string | undefined {
  const c = Buffer.from(content(buf, t));
  switch (t.tag) {
    case 0x0c: // UTF8String
      return c.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString (treated as Latin-1, as OpenSSL does)
      return c.toString('latin1');
    case 0x1e: {
      // BMPString
      const swapped = Buffer.from(c);
      if (swapped.length % 2 === 0) swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: // UniversalString (UTF-32BE)
      return String.fromCodePoint(
        ...Array.from({ length: Math.floor(c.length / 4) }, (_, i) => c.readUInt32BE(i * 4)),
      );
    default:
      return undefined;
  }
}

function escapeRfc4514(value: string): string {
  let out = value.replace(/([\\"+,;<>=])/g, '\\$1');
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 0) out = `${out.slice(0, -1)}\\ `;
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\x00-\x1f]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Formats an encoded Name as an RFC 4514 string (most specific RDN first, like
 * `openssl x509 -nameopt RFC2253`), e.g. `CN=Example Issuing CA,O=example.com`.
 * Unknown attribute types appear as dotted OIDs with `#`-hex values. For
 * display and logs only: compare names by their DER bytes.
 */
export function formatName(nameDer: Uint8Array): string {
  const whole = readWhole(nameDer, 0x30);
  const rdns = children(nameDer, whole).map((rdn) => {
    if (rdn.tag !== 0x31) throw new DerError('expected RDN SET');
    return children(nameDer, rdn)
      .map((atv) => {
        const [typeT, valueT] = children(nameDer, atv);
        if (!typeT || !valueT) throw new DerError('bad AttributeTypeAndValue');
        const typeOid = readOid(nameDer, typeT);
        const short = OID_TO_SHORT[typeOid];
        const text = decodeDirectoryString(nameDer, valueT);
        if (short && text !== undefined) return `${short}=${escapeRfc4514(text)}`;
        const hex = Buffer.from(nameDer.subarray(valueT.start, valueT.end)).toString('hex');
        return `${short ?? typeOid}=#${hex}`;
      })
      .join('+');
  });
  return rdns.reverse().join(',');
}

/** Values of all attributes of one type in an encoded Name (e.g. every CN). */
export function nameValues(nameDer: Uint8Array, type: NameAttributeType): string[] {
  const wanted = TYPE_TO_OID[type];
  const whole = readWhole(nameDer, 0x30);
  const out: string[] = [];
  for (const rdn of children(nameDer, whole)) {
    for (const atv of children(nameDer, rdn)) {
      const [typeT, valueT] = children(nameDer, atv);
      if (typeT && valueT && readOid(nameDer, typeT) === wanted) {
        const text = decodeDirectoryString(nameDer, valueT);
        if (text !== undefined) out.push(text);
      }
    }
  }
  return out;
}
