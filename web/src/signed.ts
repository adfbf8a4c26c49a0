// The pages behind a key (wallet, proof request, console, verify), loaded only when one is
// opened, so the explorer's first load carries neither them nor the QR encoder.
export { ConsolePage } from './pages/console.js';
export { ProvePage } from './pages/prove.js';
export { VerifyPage } from './pages/verify.js';
export { WalletPage } from './pages/wallet.js';
