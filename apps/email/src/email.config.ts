import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EMAIL_SETTING_NAMES, EmailSettings, parseEmailSettings } from './email.settings';

/**
 * The email settings of this process. Checked in `onModuleInit`, so a bad value fails
 * `app.init()`/`listen()` with a clear message (a throw while providers are built would abort
 * the process instead).
 */
@Injectable()
export class EmailConfig implements OnModuleInit {
  private checked?: EmailSettings;

  constructor(private readonly config: ConfigService) {}

  onModuleInit(): void {
    this.checked = this.read();
  }

  get settings(): EmailSettings {
    this.checked ??= this.read();
    return this.checked;
  }

  private read(): EmailSettings {
    return parseEmailSettings(
      Object.fromEntries(EMAIL_SETTING_NAMES.map((name) => [name, this.config.get<string>(name)])),
    );
  }
}
