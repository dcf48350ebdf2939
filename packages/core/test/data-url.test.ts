import { describe, expect, it } from 'vitest';
import { parseDataUrl } from '../src/provider-utils.js';

describe('parseDataUrl', () => {
  it('reads the media type and the payload of a base64 data URL, whatever the payload holds', () => {
    expect(parseDataUrl('data:image/png;base64,iVBORw0K')).toEqual({
      mediaType: 'image/png',
      base64: 'iVBORw0K',
    });
    // The prefix in any case (the media type comes back in lower case), and a payload with line breaks
    // (some encoders wrap at 76 characters): all of it, to its end.
    expect(parseDataUrl('DATA:Image/JPEG;BASE64,AAAA\nBBBB\r\n')).toEqual({
      mediaType: 'image/jpeg',
      base64: 'AAAA\nBBBB\r\n',
    });
    const payload = 'A'.repeat(3_000_000);
    expect(parseDataUrl(`data:image/webp;base64,${payload}`)?.base64).toBe(payload);
  });

  it('is undefined for anything else: no payload, no base64 marker, not a data URL', () => {
    for (const text of [
      'data:image/png;base64,',
      'data:image/png,iVBORw0K',
      'data:image;base64,iVBORw0K',
      ' data:image/png;base64,iVBORw0K',
      'https://example.com/a.png',
      '',
    ]) {
      expect(parseDataUrl(text), text).toBeUndefined();
    }
  });
});
