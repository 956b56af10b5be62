/**
 * 3-D Secure inside the card iframe: when the gateway answers a card with a challenge
 * (`authentication.url`), the issuer's page is shown in a nested iframe in this document
 * (never in the merchant's page), and the promise resolves when that page says it is done
 * (`postMessage({hushpay3ds: 'done'})` from the challenge frame, from the challenge's origin).
 */

export function runChallenge(gateway: string, url: string, title: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url, gateway);
    } catch {
      reject(new Error('bad challenge url'));
      return;
    }
    // The card frame's CSP frames its own origin only (the sandbox issuer); a connector with
    // real issuers' pages would list their origins there too.
    if (target.origin !== gateway) {
      reject(new Error('bad challenge url'));
      return;
    }
    const frame = document.createElement('iframe');
    frame.id = 'hp-challenge';
    frame.title = title;
    frame.referrerPolicy = 'no-referrer';
    frame.setAttribute('sandbox', 'allow-forms allow-scripts allow-same-origin');
    const onMessage = (event: MessageEvent): void => {
      if (event.source !== frame.contentWindow || event.origin !== target.origin) return;
      const data = event.data as { hushpay3ds?: unknown } | null;
      if (data?.hushpay3ds !== 'done') return;
      window.removeEventListener('message', onMessage);
      frame.remove();
      resolve();
    };
    window.addEventListener('message', onMessage);
    frame.src = target.href;
    (document.getElementById('card-form') ?? document.body).appendChild(frame);
  });
}
