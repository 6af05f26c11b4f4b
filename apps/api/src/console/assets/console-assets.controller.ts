import { Controller, Get, NotFoundException, Param, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CONSOLE_PATH } from '../console.constants';
import { ConsoleAsset, ConsoleAssets } from './console-assets';

/**
 * The console's own Content-Security-Policy, stricter than the platform's: scripts, styles and
 * connections from this origin only, no inline script or style anywhere, no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

interface AssetResponse {
  setHeader(name: string, value: string): void;
  redirect(status: number, url: string): void;
  send(body: Buffer): void;
}

/** `/console/` (index.html, never cached without revalidation) and `/console/assets/*` (content-hashed, cached for good). */
@ApiExcludeController()
@Controller('console')
export class ConsoleAssetsController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  page(@Req() request: { originalUrl: string }, @Res() response: AssetResponse): void {
    const [path, query] = request.originalUrl.split(/\?(.*)/s);
    // NOTE: the page's relative asset URLs need the trailing slash.
    if (path === CONSOLE_PATH) return response.redirect(301, `${CONSOLE_PATH}/${query ? `?${query}` : ''}`);
    const page = this.assets.page();
    if (!page) throw new ServiceUnavailableException('the console is not built: run `npm run build`');
    send(response, page, 'no-cache');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() response: AssetResponse): void {
    const asset = this.assets.asset(file);
    if (!asset) throw new NotFoundException(`no console asset ${file.slice(0, 100)}`);
    send(response, asset, 'public, max-age=31536000, immutable');
  }
}

function send(response: AssetResponse, asset: ConsoleAsset, cacheControl: string): void {
  response.setHeader('Content-Type', asset.contentType);
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('Content-Security-Policy', CONSOLE_CSP);
  response.send(asset.body);
}
